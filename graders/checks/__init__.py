"""Check kinds, one module each: field, plan, tests, concepts, manual."""
