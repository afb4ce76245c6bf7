"""The fault suite behind `make faults`: real faults on the real stack, counted."""
