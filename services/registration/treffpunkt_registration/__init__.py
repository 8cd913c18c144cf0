"""The registration service: participants register for published meetings."""
