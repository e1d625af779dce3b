// The headless gateway's token: AIKM_GATEWAY_TOKEN when set (at least 32 characters), otherwise one
// made once (256 bits) and kept in AIKM_HOME/gateway-token, readable by this user only.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { MIN_GATEWAY_TOKEN_LENGTH, newGatewayToken } from '../gateway/localGuard';
import { writeFileAtomicSync } from './atomicFile';

export function gatewayToken(home: string, env: NodeJS.ProcessEnv = process.env): { token: string; source: string } {
  const given = env.AIKM_GATEWAY_TOKEN?.trim();
  if (given !== undefined && given !== '') {
    if (given.length < MIN_GATEWAY_TOKEN_LENGTH) throw new Error(`AIKM_GATEWAY_TOKEN is ${given.length} characters; it must be at least ${MIN_GATEWAY_TOKEN_LENGTH}. Unset it to use the token kept in AIKM_HOME.`);
    return { token: given, source: 'AIKM_GATEWAY_TOKEN' };
  }
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = join(home, 'gateway-token');
  let kept: string | undefined;
  try {
    kept = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Could not read the gateway token in ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (kept !== undefined && kept.length >= MIN_GATEWAY_TOKEN_LENGTH) return { token: kept, source: file };
  if (kept !== undefined) fs.renameSync(file, `${file}.invalid-${Date.now()}`); // kept, never overwritten
  const token = newGatewayToken();
  writeFileAtomicSync(file, `${token}\n`, 0o600);
  return { token, source: file };
}
