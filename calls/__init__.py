"""The call center: every call the dealer's phone system makes or takes, as a record matched
to the customer and the lead, with its recordings, scripts and the callbacks it leaves."""
