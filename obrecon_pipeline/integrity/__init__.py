"""Feed-independent integrity analyses of event streams and rebuilt books (sequence numbers,
crossed books)."""
