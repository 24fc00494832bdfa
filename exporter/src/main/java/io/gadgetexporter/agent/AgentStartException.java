package io.gadgetexporter.agent;

/** The agent cannot start; the message says what is missing and what to do. */
public final class AgentStartException extends RuntimeException {
  public AgentStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
