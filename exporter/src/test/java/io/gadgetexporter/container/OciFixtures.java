package io.gadgetexporter.container;

/** Realistic {@code config.json} documents, trimmed to what matters and a little around it. */
final class OciFixtures {

  static final String APP = CgroupContainerIdTest.APP;
  static final String SANDBOX = CgroupContainerIdTest.SANDBOX;
  static final String POD_UID = CgroupContainerIdTest.POD_UID;

  /** An app container as containerd's CRI plugin writes it (systemd cgroup driver). */
  static final String CONTAINERD_CRI =
      """
      {
        "ociVersion": "1.2.0",
        "process": {
          "user": {"uid": 101, "gid": 101, "additionalGids": [101]},
          "args": ["nginx", "-g", "daemon off;"],
          "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "HOSTNAME=web-7d4b9c8f6-x2x9k", "NGINX_VERSION=1.27.0"],
          "cwd": "/",
          "capabilities": {"bounding": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]},
          "noNewPrivileges": false,
          "oomScoreAdj": 1000
        },
        "root": {"path": "rootfs"},
        "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc",
           "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/etc/hosts", "type": "bind",
           "source": "/var/lib/kubelet/pods/%3$s/etc-hosts", "options": ["rbind", "rprivate", "rw"]}
        ],
        "annotations": {
          "io.kubernetes.cri.container-name": "nginx",
          "io.kubernetes.cri.container-type": "container",
          "io.kubernetes.cri.image-name": "docker.io/library/nginx:1.27",
          "io.kubernetes.cri.sandbox-id": "%2$s",
          "io.kubernetes.cri.sandbox-name": "web-7d4b9c8f6-x2x9k",
          "io.kubernetes.cri.sandbox-namespace": "shop",
          "io.kubernetes.cri.sandbox-uid": "%3$s"
        },
        "linux": {
          "resources": {"devices": [{"allow": false, "access": "rwm"}],
                        "memory": {"limit": 268435456}, "cpu": {"shares": 256}},
          "cgroupsPath": "kubepods-burstable-pod%4$s.slice:cri-containerd:%1$s",
          "namespaces": [
            {"type": "pid"},
            {"type": "ipc", "path": "/proc/48213/ns/ipc"},
            {"type": "uts", "path": "/proc/48213/ns/uts"},
            {"type": "mount"},
            {"type": "network", "path": "/proc/48213/ns/net"}
          ],
          "maskedPaths": ["/proc/acpi", "/proc/kcore"],
          "readonlyPaths": ["/proc/bus", "/proc/fs"]
        }
      }
      """
          .formatted(APP, SANDBOX, POD_UID, POD_UID.replace('-', '_'));

  /** A pod's sandbox as CRI-O writes it (cgroupfs driver), with kubelet's labels as JSON. */
  static final String CRIO_SANDBOX =
      """
      {
        "ociVersion": "1.0.2-dev",
        "process": {"user": {"uid": 65535, "gid": 65535}, "args": ["/pause"], "cwd": "/"},
        "root": {"path": "/var/lib/containers/storage/overlay/9d1e/merged", "readonly": true},
        "hostname": "segfaulter",
        "annotations": {
          "io.container.manager": "cri-o",
          "io.kubernetes.container.name": "POD",
          "io.kubernetes.cri-o.Annotations": "{\\"kubernetes.io/config.source\\":\\"api\\"}",
          "io.kubernetes.cri-o.ContainerID": "%1$s",
          "io.kubernetes.cri-o.ContainerType": "sandbox",
          "io.kubernetes.cri-o.Created": "2024-05-01T10:20:30.123456789Z",
          "io.kubernetes.cri-o.Image": "registry.k8s.io/pause:3.9",
          "io.kubernetes.cri-o.KubeName": "segfaulter",
          "io.kubernetes.cri-o.Labels": "{\\"io.kubernetes.container.name\\":\\"POD\\",\
      \\"io.kubernetes.pod.namespace\\":\\"default\\",\
      \\"io.kubernetes.pod.name\\":\\"segfaulter\\",\
      \\"run\\":\\"segfaulter\\",\\"app.kubernetes.io/part-of\\":\\"crashers\\",\
      \\"io.kubernetes.pod.uid\\":\\"%2$s\\"}",
          "io.kubernetes.cri-o.Name": "k8s_segfaulter_default_%2$s_0",
          "io.kubernetes.cri-o.Namespace": "default",
          "io.kubernetes.cri-o.SandboxID": "%1$s",
          "io.kubernetes.pod.name": "segfaulter",
          "io.kubernetes.pod.namespace": "default",
          "io.kubernetes.pod.uid": "%2$s",
          "kubernetes.io/config.source": "api"
        },
        "linux": {
          "cgroupsPath": "/kubepods/besteffort/pod%2$s/crio-%1$s",
          "namespaces": [
            {"type": "pid"},
            {"type": "network", "path": "/var/run/netns/4c1c5a4e-8d3f-4d9e-9c1b-0b5e6a7d8f90"},
            {"type": "ipc", "path": "/var/run/ipcns/4c1c5a4e-8d3f-4d9e-9c1b-0b5e6a7d8f90"},
            {"type": "uts", "path": "/var/run/utsns/4c1c5a4e-8d3f-4d9e-9c1b-0b5e6a7d8f90"},
            {"type": "mount"}
          ]
        }
      }
      """
          .formatted(SANDBOX, POD_UID);

  /** What {@code ctr run docker.io/library/redis:7 redis} leaves: no annotations at all. */
  static final String CTR_RUN =
      """
      {
        "ociVersion": "1.1.0",
        "process": {"args": ["docker-entrypoint.sh", "redis-server"], "cwd": "/data"},
        "root": {"path": "rootfs"},
        "hostname": "",
        "linux": {
          "cgroupsPath": "/default/redis",
          "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                         {"type": "network"}]
        }
      }
      """;

  private OciFixtures() {}
}
