"""Text models shared by the signals, the watchlist and the AI-text detector: sentence embeddings
(`embed`), their cache in the store and time-blocked nearest neighbours (`neighbours`)."""
