"""The raw EDC extract: its documented schema and the reader that checks an extract against it."""
