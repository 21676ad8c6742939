"""Live: watch canonical events on Redis Streams or Kafka, alert within seconds, survive restarts
(docs/STREAMING.md). A thin shell over the batch stages: no detection logic lives here."""

# watchlist score that raises a returning-actor alert. On smoke, accounts outside the operation
# score at most 1.82 and its returning accounts 2.38 and up (docs/STREAMING.md).
DEFAULT_MATCH_THRESHOLD = 2.0
