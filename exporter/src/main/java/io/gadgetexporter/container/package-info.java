/**
 * Learning which containers run on the node, from what the kernel and the runtimes leave on disk:
 * pure parsers, no I/O beyond reading the files they are given.
 *
 * <ul>
 *   <li>{@link io.gadgetexporter.container.ProcCgroup} and {@link
 *       io.gadgetexporter.container.CgroupContainerId}: a process's cgroup paths, and the container
 *       id, runtime and pod uid their shape tells.
 *   <li>{@link io.gadgetexporter.container.RuntimeCommand}: a runc or crun command line (container
 *       id, bundle, pid file, state root).
 *   <li>{@link io.gadgetexporter.container.RuntimeState}: the runtime's per-container state
 *       ({@code <root>/<id>/state.json} or {@code status}) and the usual roots.
 *   <li>{@link io.gadgetexporter.container.OciConfig} and {@link
 *       io.gadgetexporter.container.OciAnnotations}: the bundle's {@code config.json}, and the
 *       Kubernetes names in its annotations.
 *   <li>{@link io.gadgetexporter.container.PidFile}: a runtime's pid file.
 * </ul>
 *
 * <p>Bad input is data: a parser either degrades (skips a garbled line and counts it) or throws
 * {@link io.gadgetexporter.container.ContainerMetadataException}, whose reason is a stable label
 * for a metric. A file that does not exist gives an empty result instead, since containers come
 * and go while they are read.
 */
package io.gadgetexporter.container;
