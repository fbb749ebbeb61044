"""The people I met in person, back to the networks: JSON for apps, files for imports."""
