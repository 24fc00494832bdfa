package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RuntimeCommandTest {

  private static final String ID = CgroupContainerIdTest.APP;

  private static RuntimeCommand parse(String commandLine) {
    return RuntimeCommand.parse(List.of(commandLine.split(" ")))
        .orElseThrow(() -> new AssertionError("no command in: " + commandLine));
  }

  @Test
  void containerdShimCreate() {
    String task = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + ID;
    RuntimeCommand command =
        parse(
            "/usr/bin/runc --root /run/containerd/runc/k8s.io --log "
                + task
                + "/log.json --log-format json create --bundle "
                + task
                + " --pid-file "
                + task
                + "/init.pid "
                + ID);

    assertThat(command.runtime()).isEqualTo("runc");
    assertThat(command.command()).isEqualTo("create");
    assertThat(command.containerId()).contains(ID);
    assertThat(command.bundle()).contains(task);
    assertThat(command.pidFile()).contains(task + "/init.pid");
    assertThat(command.root()).contains("/run/containerd/runc/k8s.io");
    assertThat(command.force()).isFalse();
  }

  @Test
  void globalFlagsOfEveryKindBeforeTheCommand() {
    RuntimeCommand command =
        parse("runc --debug --log /x --log-format json create --bundle /b --pid-file /p abc");

    assertThat(command.command()).isEqualTo("create");
    assertThat(command.containerId()).contains("abc");
    assertThat(command.bundle()).contains("/b");
    assertThat(command.pidFile()).contains("/p");
    assertThat(command.root()).isEmpty();
  }

  @Test
  void flagsWithEquals() {
    RuntimeCommand command =
        parse("runc --root=/x --systemd-cgroup run --bundle=/b --pid-file=/p.pid -d abc");

    assertThat(command.root()).contains("/x");
    assertThat(command.command()).isEqualTo("run");
    assertThat(command.bundle()).contains("/b");
    assertThat(command.pidFile()).contains("/p.pid");
    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void shortBundleFlagWithARelativeBundle() {
    RuntimeCommand command = parse("runc run -b . mycontainer");

    assertThat(command.bundle()).contains(".");
    assertThat(command.containerId()).contains("mycontainer");
  }

  @Test
  void goStyleSingleDashLongFlags() {
    RuntimeCommand command = parse("runc -root /var/run/runc create -bundle /b abc");

    assertThat(command.root()).contains("/var/run/runc");
    assertThat(command.bundle()).contains("/b");
    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void crunAsPodmanRunsIt() {
    RuntimeCommand command =
        parse(
            "/usr/bin/crun --root /run/crun --systemd-cgroup --log-format=json --log=/l.json"
                + " --cgroup-manager systemd create --bundle /b --pid-file /p --no-new-keyring "
                + ID);

    assertThat(command.runtime()).isEqualTo("crun");
    assertThat(command.root()).contains("/run/crun");
    assertThat(command.command()).isEqualTo("create");
    assertThat(command.containerId()).contains(ID);
    assertThat(command.bundle()).contains("/b");
  }

  @Test
  void crunCreateWithAConfigFile() {
    RuntimeCommand command = parse("crun create -f /etc/custom.json --bundle /b abc");

    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void missingContainerId() {
    RuntimeCommand command = parse("runc create --bundle /b");

    assertThat(command.command()).isEqualTo("create");
    assertThat(command.bundle()).contains("/b");
    assertThat(command.containerId()).isEmpty();
  }

  @Test
  void aValueFlagAtTheEndHasNoValue() {
    RuntimeCommand command = parse("runc create --bundle");

    assertThat(command.bundle()).isEmpty();
    assertThat(command.containerId()).isEmpty();
  }

  @Test
  void runcInitIsTheRuntimeReExecutingItself() {
    RuntimeCommand command = RuntimeCommand.parse(List.of("runc", "init")).orElseThrow();

    assertThat(command.command()).isEqualTo("init");
    assertThat(command.containerId()).isEmpty();
  }

  @Test
  void deleteForce() {
    assertThat(parse("runc --root /run/runc delete -f abc").force()).isTrue();
    assertThat(parse("runc delete --force abc").force()).isTrue();
    assertThat(parse("runc delete --force=false abc").force()).isFalse();
    assertThat(parse("runc delete abc").force()).isFalse();
    assertThat(parse("runc delete -f abc").containerId()).contains("abc");
  }

  @Test
  void forceIsOnlyForDelete() {
    // crun create -f is --config; kill has no -f at all.
    assertThat(parse("crun create -f /c.json abc").force()).isFalse();
    assertThat(parse("runc kill --all abc KILL").force()).isFalse();
  }

  @Test
  void execWithValueFlagsBeforeTheId() {
    RuntimeCommand command =
        parse(
            "runc --root /run/containerd/runc/k8s.io exec --process /tmp/runc-process123"
                + " --console-socket /tmp/pty.sock --detach --pid-file /p/exec.pid "
                + ID);

    assertThat(command.command()).isEqualTo("exec");
    assertThat(command.containerId()).contains(ID);
    assertThat(command.pidFile()).contains("/p/exec.pid");
    assertThat(command.bundle()).isEmpty();
  }

  @Test
  void execFromTheCommandLine() {
    RuntimeCommand command = parse("runc exec -t -e TERM=xterm -u 0:0 --cwd /srv abc sh -c ls");

    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void killTakesTheSignalAfterTheId() {
    RuntimeCommand command = parse("runc kill abc SIGKILL");

    assertThat(command.command()).isEqualTo("kill");
    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void updateWithResourcesFromStandardInput() {
    // containerd: runc update --resources - <id>, the resources as JSON on standard input
    RuntimeCommand command = parse("runc --root /run/containerd/runc/k8s.io update --resources - "
        + ID);

    assertThat(command.command()).isEqualTo("update");
    assertThat(command.containerId()).contains(ID);
  }

  @Test
  void updateWithLimits() {
    assertThat(parse("runc update --memory 512M --pids-limit 100 abc").containerId())
        .contains("abc");
  }

  @Test
  void stateAndPsAndEvents() {
    assertThat(parse("runc state abc").containerId()).contains("abc");
    assertThat(parse("runc ps --format json abc").containerId()).contains("abc");
    assertThat(parse("runc events --interval 5s --stats abc").containerId()).contains("abc");
  }

  @Test
  void listHasNoContainer() {
    RuntimeCommand command = parse("runc --root /run/runc list -f json");

    assertThat(command.command()).isEqualTo("list");
    assertThat(command.containerId()).isEmpty();
    assertThat(command.root()).contains("/run/runc");
  }

  @Test
  void specBundleIsNotAContainerBundle() {
    RuntimeCommand command = parse("runc spec --rootless -b /tmp/new");

    assertThat(command.bundle()).isEmpty();
    assertThat(command.containerId()).isEmpty();
  }

  @Test
  void restoreFromACheckpoint() {
    RuntimeCommand command =
        parse("runc restore --image-path /cp --work-path /w --bundle /b --pid-file /p -d abc");

    assertThat(command.containerId()).contains("abc");
    assertThat(command.bundle()).contains("/b");
  }

  @Test
  void doubleDashEndsTheFlags() {
    assertThat(parse("runc delete -- -weird-id").containerId()).contains("-weird-id");
    assertThat(parse("runc --root /r -- state abc").command()).isEqualTo("state");
  }

  @Test
  void anUnknownRuntimeIsParsedTheRuncWay() {
    RuntimeCommand command = parse("/usr/local/bin/youki --root /run/youki create -b /b abc");

    assertThat(command.runtime()).isEqualTo("youki");
    assertThat(command.root()).contains("/run/youki");
    assertThat(command.containerId()).contains("abc");
  }

  @Test
  void anUnknownCommandKeepsItsFirstArgument() {
    RuntimeCommand command = parse("runc frobnicate --verbose abc");

    assertThat(command.command()).isEqualTo("frobnicate");
    assertThat(command.containerId()).contains("abc");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"runc", "runc --version", "runc -v", "runc --help", "runc --root /x", "runc --"})
  void noCommand(String commandLine) {
    assertThat(RuntimeCommand.parse(List.of(commandLine.split(" ")))).isEmpty();
  }

  @Test
  void emptyArgv() {
    assertThat(RuntimeCommand.parse(List.of())).isEmpty();
    assertThat(RuntimeCommand.parse(List.of("", "", ""))).isEmpty();
  }

  @Test
  void oddArgumentsDoNotBreakIt() {
    Optional<RuntimeCommand> command =
        RuntimeCommand.parse(List.of("runc", "-", "=", "--=", "create", "", "-b", "\u0000"));

    assertThat(command).map(RuntimeCommand::command).contains("-");
    assertThat(RuntimeCommand.parse(List.of("/", "create", "x")))
        .map(RuntimeCommand::runtime)
        .contains("/");
  }
}
