package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on the one exception the parsers throw. */
final class MetadataProblems {

  private MetadataProblems() {}

  /** Asserts that {@code call} throws a {@link ContainerMetadataException} with this reason. */
  static AbstractThrowableAssert<?, ? extends Throwable> assertProblem(
      Reason reason, ThrowingCallable call) {
    ContainerMetadataException e = catchThrowableOfType(ContainerMetadataException.class, call);
    assertThat(e).as("a ContainerMetadataException").isNotNull();
    assertThat(e.reason()).as("reason").isEqualTo(reason);
    return assertThat(e);
  }
}
