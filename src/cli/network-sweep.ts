/** The network commands' first step: containers whose holder died leave addresses, links and DNS entries; cleaned (cheap when there are none). */
export async function sweepNetworks(): Promise<void> {
  await (await (await import('../network/backends.js')).backendFor()).sweep();
}
