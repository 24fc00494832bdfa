package io.gadgetexporter.gadget;

/**
 * How a field's bytes become a value, chosen from the typedef the field was declared with in the
 * BPF program (see {@code bpf/include/gadget/types.h}), else from its BTF kind.
 */
public enum FieldFormat {
  /** An integer or enum; signed or not as BTF says. */
  NUMBER,
  BOOL,
  /** A NUL-terminated char array. */
  STRING,
  /** {@code gadget_args}: NUL-separated strings, the first {@code gadget_args_size} bytes. */
  ARGS,
  /** {@code gadget_timestamp}: nanoseconds since boot, shown as wall-clock time. */
  TIMESTAMP,
  /** {@code gadget_errno}: a positive errno, shown by name. */
  ERRNO,
  /** {@code gadget_syscall_ret}: a value, or {@code -errno} shown by name. */
  SYSCALL_RET,
  /** {@code gadget_open_flags}: shown as {@code O_WRONLY|O_CREAT}. */
  OPEN_FLAGS,
  /** {@code gadget_file_mode}: shown in octal. */
  FILE_MODE,
  /** Anything else: shown as hex. */
  BYTES,
  /** {@code gadget_l4endpoint}: address and port, as {@code 10.0.0.1:80}, {@code [::1]:80}. */
  L4_ENDPOINT,
  /** {@code gadget_tcp_state}: shown by name ({@code ESTABLISHED}). */
  TCP_STATE,
  /** {@code gadget_tcp_flags}: shown as {@code SYN|ACK}. */
  TCP_FLAGS,
  /** {@code gadget_ip_protocol}: shown by name ({@code TCP}). */
  IP_PROTOCOL,
  /** {@code gadget_sock_family}: shown by name ({@code AF_INET6}). */
  SOCK_FAMILY,
  /** {@code gadget_skb_drop_reason}: the running kernel's name for it ({@code NETFILTER_DROP}). */
  SKB_DROP_REASON,
  /** {@code gadget_syscall_nr}: a syscall number, shown by name for the agent's architecture. */
  SYSCALL_NR,
  /** {@code gadget_file_type}: the {@code S_IFMT} bits of a mode, shown as {@code regular}, ... */
  FILE_TYPE,
  /** {@code gadget_signal}: shown by name ({@code SIGKILL}); empty for 0. */
  SIGNAL,
  /** {@code gadget_signal_code}: a siginfo si_code, by name where it has one ({@code SI_USER}). */
  SIGNAL_CODE,
  /** {@code gadget_signal_result}: {@code delivered}, {@code ignored}, ... or an errno name. */
  SIGNAL_RESULT,
  /** {@code gadget_mount_flags}: shown as {@code MS_RDONLY|MS_NOSUID}. */
  MOUNT_FLAGS,
  /** {@code gadget_umount_flags}: shown as {@code MNT_DETACH}. */
  UMOUNT_FLAGS,
  /**
   * {@code gadget_kernel_stack}: a stack id, shown as the folded kernel stack ({@code
   * entry_SYSCALL_64;...;vfs_read}); its value is the frame list with offsets.
   */
  KERNEL_STACK,
  /** {@code gadget_user_stack}: a stack id, shown as the folded user stack (addresses). */
  USER_STACK,
  /**
   * {@code gadget_histogram_slot}: a log2 histogram, shown as its non-empty slots ({@code
   * 16-31us:50}); its value is the list of slot counts.
   */
  HISTOGRAM,
  /** {@code gadget_dev}: a kernel device number, shown as {@code major:minor}. */
  DEVICE,
  /** {@code gadget_block_op}: a block request operation, shown by name ({@code write}). */
  BLOCK_OP,
  /**
   * A payload typedef ({@code gadget_dns_payload}): raw bytes that a {@link PayloadDecoder} turns
   * into derived fields; itself shown as hex of the captured bytes.
   */
  PAYLOAD;

  /**
   * Whether the field is one integer, read with {@link EventView#getLong}: a number, a flag, a
   * timestamp (raw nanoseconds since boot), a code with a name (errno, signal, state, syscall...).
   * Not strings, lists, byte arrays, endpoints, payloads, histograms, nor stack ids (a key into a
   * map, not a value).
   */
  public boolean isInteger() {
    return switch (this) {
      case STRING, ARGS, BYTES, L4_ENDPOINT, KERNEL_STACK, USER_STACK, HISTOGRAM, PAYLOAD -> false;
      default -> true;
    };
  }

  /** The format a well-known typedef stands for, or null for an ordinary typedef. */
  static FieldFormat ofTypedef(String typedefName) {
    if (typedefName == null) {
      return null;
    }
    return switch (typedefName) {
      case "gadget_timestamp" -> TIMESTAMP;
      case "gadget_errno" -> ERRNO;
      case "gadget_syscall_ret" -> SYSCALL_RET;
      case "gadget_open_flags" -> OPEN_FLAGS;
      case "gadget_file_mode" -> FILE_MODE;
      case "gadget_bool" -> BOOL;
      case "gadget_args" -> ARGS;
      case "gadget_comm", "gadget_path" -> STRING;
      case "gadget_l4endpoint" -> L4_ENDPOINT;
      case "gadget_tcp_state" -> TCP_STATE;
      case "gadget_tcp_flags" -> TCP_FLAGS;
      case "gadget_ip_protocol" -> IP_PROTOCOL;
      case "gadget_sock_family" -> SOCK_FAMILY;
      case "gadget_skb_drop_reason" -> SKB_DROP_REASON;
      case "gadget_syscall_nr" -> SYSCALL_NR;
      case "gadget_file_type" -> FILE_TYPE;
      case "gadget_signal" -> SIGNAL;
      case "gadget_signal_code" -> SIGNAL_CODE;
      case "gadget_signal_result" -> SIGNAL_RESULT;
      case "gadget_mount_flags" -> MOUNT_FLAGS;
      case "gadget_umount_flags" -> UMOUNT_FLAGS;
      case "gadget_kernel_stack" -> KERNEL_STACK;
      case "gadget_user_stack" -> USER_STACK;
      case "gadget_histogram_slot" -> HISTOGRAM;
      case "gadget_dev" -> DEVICE;
      case "gadget_block_op" -> BLOCK_OP;
      default -> PayloadFormat.forTypedef(typedefName).isPresent() ? PAYLOAD : null;
    };
  }
}
