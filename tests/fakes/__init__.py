"""Loopback fakes that speak the providers' real wire formats, for the tests and bench/."""
