"""Data coming in and going out: street directory, treasury, imports and exports."""
