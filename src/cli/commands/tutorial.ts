/** `lab tutorial`: the chapter's scenarios as a guided course (lab/tutorial). */
export async function tutorial(argv: string[]): Promise<number> {
  const { tutorial: run } = await import('../../../lab/tutorial/main.js');
  return run(argv);
}
