class DomainError(Exception):
    """A rule of the domain was broken; the message is German and shown to the user as it is."""
