"""The customer audit group (客户监察): the sales team's work checked on a random sample, scored
against the dealer's scripts and rules, appealed once, and overturned where it was wrong."""
