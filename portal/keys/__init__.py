"""Key management: the master key, the states' and the secretariat's key pairs, rotation, /keys."""
