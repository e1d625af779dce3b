#!/usr/bin/env node
const HELP = `ai-key-manager — headless host for AI Key Manager

Usage:
  ai-key-manager --help      Show this help.
  ai-key-manager --version   Print the version.
`;

function main(argv: string[]): number {
  if (argv.includes('--version')) {
    process.stdout.write('0.1.0\n');
    return 0;
  }
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  process.stderr.write(`Unknown command: ${argv[0]}. Run 'ai-key-manager --help'.\n`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
