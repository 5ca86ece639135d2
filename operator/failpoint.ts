// Fault injection for tests: CLAWBOT_FAILPOINT=<name> makes the operator kill itself (SIGKILL, no
// cleanup, exactly like a node failure) right after the write named <name>. Tests use it to stop
// a key rotation between any two of its writes and check that nothing is lost. Unset, it does
// nothing.

export function failpoint(name: string): void {
  if (process.env.CLAWBOT_FAILPOINT === name) {
    process.stderr.write(
      JSON.stringify({
        level: 'warn',
        msg: 'failpoint reached: killing the process',
        failpoint: name,
      }) + '\n',
    );
    process.kill(process.pid, 'SIGKILL');
  }
}
