"""The benchmark's world, seeded once with COPY and reused while its options match."""
