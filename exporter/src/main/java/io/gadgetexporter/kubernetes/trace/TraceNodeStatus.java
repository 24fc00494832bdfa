package io.gadgetexporter.kubernetes.trace;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Objects;

/**
 * One node's report on a Trace: whether its instance runs there, why not, and its counters.
 *
 * <p>{@code state} is {@link #RUNNING} or {@link #FAILED}; a failed one has a {@code reason}
 * ({@link #INVALID_SPEC}: the spec was rejected, nothing was loaded; {@link #INSTANCE_FAILED}: the
 * gadget failed while starting or running) and a {@code message} saying what is wrong, e.g. {@code
 * spec.params.max_arg: unknown parameter 'max_arg' for gadget trace_exec (declared: max_args)}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "state",
  "reason",
  "message",
  "events",
  "lost",
  "observedGeneration",
  "lastTransitionTime",
  "lastUpdateTime"
})
public final class TraceNodeStatus {

  public static final String RUNNING = "Running";
  public static final String FAILED = "Failed";
  public static final String INVALID_SPEC = "InvalidSpec";
  public static final String INSTANCE_FAILED = "InstanceFailed";

  private String state;
  private String reason;
  private String message;
  private Long events;
  private Long lost;
  private Long observedGeneration;
  private String lastTransitionTime;
  private String lastUpdateTime;

  /** {@code Running} or {@code Failed}. */
  public String getState() {
    return state;
  }

  public void setState(String state) {
    this.state = state;
  }

  /** Why it failed, one CamelCase word; absent while running. */
  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  /** What is wrong, for people; absent while running. */
  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  /** Events the instance decoded on this node since it started. */
  public Long getEvents() {
    return events;
  }

  public void setEvents(Long events) {
    this.events = events;
  }

  /** Events the kernel dropped on this node because the ring buffer was full. */
  public Long getLost() {
    return lost;
  }

  public void setLost(Long lost) {
    this.lost = lost;
  }

  /** The {@code metadata.generation} of the spec this report is about. */
  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  /** When {@code state}, {@code reason} or {@code message} last changed (RFC 3339). */
  public String getLastTransitionTime() {
    return lastTransitionTime;
  }

  public void setLastTransitionTime(String lastTransitionTime) {
    this.lastTransitionTime = lastTransitionTime;
  }

  /** When this node last wrote its report (RFC 3339): an old one means a silent agent. */
  public String getLastUpdateTime() {
    return lastUpdateTime;
  }

  public void setLastUpdateTime(String lastUpdateTime) {
    this.lastUpdateTime = lastUpdateTime;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TraceNodeStatus s
        && Objects.equals(state, s.state)
        && Objects.equals(reason, s.reason)
        && Objects.equals(message, s.message)
        && Objects.equals(events, s.events)
        && Objects.equals(lost, s.lost)
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(lastTransitionTime, s.lastTransitionTime)
        && Objects.equals(lastUpdateTime, s.lastUpdateTime);
  }

  @Override
  public int hashCode() {
    return Objects.hash(state, reason, message, events, lost, observedGeneration);
  }

  @Override
  public String toString() {
    return state
        + (reason != null ? " " + reason + ": " + message : "")
        + " events="
        + events
        + " lost="
        + lost
        + " generation="
        + observedGeneration;
  }
}
