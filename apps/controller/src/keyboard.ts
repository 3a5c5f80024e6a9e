import type { RunControl } from './runControl.js';

/**
 * Keys on an interactive terminal: space or `e` = emergency stop, `r` = reset the e-stop, `q` or
 * Ctrl-C = stop (hold, then exit). Does nothing when stdin is not a TTY. `dispose` restores the terminal.
 */
export function installKeyboard(control: RunControl, log: (m: string) => void): { dispose(): void } {
  const stdin = process.stdin;
  if (!stdin.isTTY) return { dispose: () => undefined };
  stdin.setRawMode(true);
  stdin.resume();
  const onData = (data: Buffer) => {
    for (const ch of data.toString()) {
      if (ch === ' ' || ch === 'e') {
        control.emergencyStop();
        log('E-STOP (r to reset)');
      } else if (ch === 'r') {
        control.resetEmergencyStop();
        log('e-stop reset');
      } else if (ch === 'q' || ch === '\u0003') {
        log('stopping');
        control.stop();
      }
    }
  };
  stdin.on('data', onData);
  log('keys: space/e = e-stop, r = reset, q = quit');
  return {
    dispose: () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
