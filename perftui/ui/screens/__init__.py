"""Dashboard screens: help and panel detail."""
