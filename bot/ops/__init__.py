"""Operations: logs, metrics, health checks, observed dispatch and in-flight work tracking."""
