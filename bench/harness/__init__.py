"""What every phase of ``bench/scale.py`` stands on: the world, the server, load, SQL, report."""
