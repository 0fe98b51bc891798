/** The network commands' first step (the domain's `sweepNetworks`, loaded when a command runs). */
export async function sweepNetworks(): Promise<void> {
  await (await import('../network/backends.js')).sweepNetworks();
}
