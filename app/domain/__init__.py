"""Pure domain logic: no Flask, no session. Functions take what they need as arguments."""
