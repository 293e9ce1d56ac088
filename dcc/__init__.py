"""The kernel every app may import: errors, dates, input schemas, formats, phone numbers, bulk
writes and the settings. It imports no app."""
