"""The measured phases of ``bench/scale.py``, one module each."""
