package io.gadgetexporter.gadget;

/**
 * A gadget cannot be used: its description is invalid, its object does not match it, or the kernel
 * refused it. The message says which gadget and what to do.
 */
public class GadgetException extends RuntimeException {
  public GadgetException(String message) {
    super(message);
  }

  public GadgetException(String message, Throwable cause) {
    super(message, cause);
  }
}
