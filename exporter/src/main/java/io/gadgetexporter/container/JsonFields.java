package io.gadgetexporter.container;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads from a decoded JSON document, where a value of the wrong type is a problem of the
 * file (an exception with the file's reason), never a {@link ClassCastException}.
 *
 * <p>JSON {@code null} counts as absent: Go writes a nil map or slice as {@code null}.
 */
final class JsonFields {

  private static final Pattern LOCATION = Pattern.compile("line: (\\d+), column: (\\d+)");
  private static final Pattern SOURCE = Pattern.compile("\\s*at \\[Source: [^\\]]*\\]");
  private static final Pattern START_MARKER =
      Pattern.compile("\\s*\\(start marker at \\[Source: [^\\]]*\\]\\)");

  private final String source;
  private final Reason malformed;

  /**
   * @param source names the file in messages
   * @param malformed the reason of every problem found
   */
  JsonFields(String source, Reason malformed) {
    this.source = source;
    this.malformed = malformed;
  }

  /** Decodes a document whose top level must be an object. */
  JsonObject document(String json) {
    if (json.isBlank()) {
      throw problem("empty, not a JSON object");
    }
    Object value;
    try {
      value = Json.decodeValue(json);
    } catch (DecodeException e) {
      throw new ContainerMetadataException(
          malformed, source, "not valid JSON: " + jsonProblem(e.getMessage()), e);
    }
    if (value instanceof JsonObject object) {
      return object;
    }
    throw problem("the top level is " + describe(value) + ", not a JSON object");
  }

  Optional<String> string(JsonObject object, String key, String path) {
    return typed(object, key, path, String.class, "a string");
  }

  Optional<JsonObject> object(JsonObject object, String key, String path) {
    return typed(object, key, path, JsonObject.class, "an object");
  }

  Optional<JsonArray> array(JsonObject object, String key, String path) {
    return typed(object, key, path, JsonArray.class, "a list");
  }

  /** The value under {@code key}: empty when absent, a problem when of another type. */
  private <T> Optional<T> typed(
      JsonObject object, String key, String path, Class<T> type, String expected) {
    Object value = object.getValue(key);
    if (value == null) {
      return Optional.empty();
    }
    if (type.isInstance(value)) {
      return Optional.of(type.cast(value));
    }
    throw wrongType(path, value, expected);
  }

  /** A list whose elements must all be strings; empty when absent. */
  List<String> strings(JsonObject object, String key, String path) {
    Optional<JsonArray> array = array(object, key, path);
    if (array.isEmpty()) {
      return List.of();
    }
    List<String> strings = new ArrayList<>(array.get().size());
    for (int i = 0; i < array.get().size(); i++) {
      Object element = array.get().getValue(i);
      if (!(element instanceof String s)) {
        throw wrongType(path + "[" + i + "]", element, "a string");
      }
      strings.add(s);
    }
    return List.copyOf(strings);
  }

  /**
   * A whole number that is not negative. Accepts a number, or a string of digits (old runc wrote
   * {@code init_process_start} as a string).
   */
  OptionalLong nonNegativeLong(JsonObject object, String key, String path) {
    Object value = object.getValue(key);
    if (value == null) {
      return OptionalLong.empty();
    }
    if (value instanceof Integer || value instanceof Long) {
      long n = ((Number) value).longValue();
      if (n >= 0) {
        return OptionalLong.of(n);
      }
    } else if (value instanceof BigInteger) {
      throw problem(path + " is " + value + ", too large");
    } else if (value instanceof String s && !s.isEmpty() && s.length() <= 18 && digits(s)) {
      return OptionalLong.of(Long.parseLong(s));
    }
    throw wrongType(path, value, "a whole number of at least 0");
  }

  /** A path from the file; one Java cannot represent (a NUL in it) is a problem of the file. */
  Path path(String value, String what) {
    try {
      return Path.of(value);
    } catch (InvalidPathException e) {
      throw problem(what + " is not a usable path: " + e.getReason());
    }
  }

  ContainerMetadataException problem(String problem) {
    return new ContainerMetadataException(malformed, source, problem);
  }

  ContainerMetadataException wrongType(String path, Object value, String expected) {
    return problem(path + " is " + describe(value) + ", not " + expected);
  }

  private static boolean digits(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  static String describe(Object value) {
    if (value == null) {
      return "null";
    } else if (value instanceof String s) {
      return "a string (\"" + MetadataFiles.printable(s, 40) + "\")";
    } else if (value instanceof Number n) {
      return "a number (" + n + ")";
    } else if (value instanceof Boolean b) {
      return "a boolean (" + b + ")";
    } else if (value instanceof JsonArray) {
      return "a list";
    } else if (value instanceof JsonObject) {
      return "an object";
    }
    return "a " + value.getClass().getSimpleName();
  }

  /**
   * Jackson's message without its source-location boilerplate, keeping line and column: {@code
   * Unexpected end-of-input ... (line 3, column 1)}.
   */
  static String jsonProblem(String message) {
    if (message == null) {
      return "cannot decode";
    }
    String line = null;
    String column = null;
    for (Matcher location = LOCATION.matcher(message); location.find(); ) {
      // The last location is where decoding stopped; an earlier one is where a list began.
      line = location.group(1);
      column = location.group(2);
    }
    String text = START_MARKER.matcher(message).replaceAll("");
    text = SOURCE.matcher(text).replaceAll("").strip();
    return line == null ? text : text + " (line " + line + ", column " + column + ")";
  }

}
