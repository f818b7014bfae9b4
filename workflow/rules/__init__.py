"""Pure rules: coaching weeks, deadlines, what is due at a time, money, permissions, validation. No I/O."""
