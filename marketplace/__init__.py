"""A C2C marketplace with a virtual-coin economy."""
