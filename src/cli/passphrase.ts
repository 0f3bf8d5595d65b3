import { inputError } from '../core/errors.js';
import { readUserText } from '../store/files.js';

/** The CA passphrase from --passphrase-file (first line) or PKICTL_CA_PASSPHRASE; the file wins. */
export async function readPassphrase(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const passphrase = (await readUserText(file, `passphrase file ${file}`, 'passphrase')).split(/\r?\n/)[0]!;
    if (passphrase.length === 0) throw inputError('PASSPHRASE_EMPTY', `passphrase file ${file} is empty`);
    return passphrase;
  }
  const fromEnv = process.env.PKICTL_CA_PASSPHRASE;
  if (fromEnv === undefined) return undefined;
  if (fromEnv.length === 0) throw inputError('PASSPHRASE_EMPTY', 'PKICTL_CA_PASSPHRASE is set but empty');
  return fromEnv;
}
