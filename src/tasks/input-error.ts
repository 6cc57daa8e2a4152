/**
 * Why a task refused its input. Tasks know nothing of HTTP; the HTTP layer maps each reason to a status
 * (`too_large` to 413, the rest to 400).
 */
export type InputErrorReason = 'invalid' | 'empty' | 'too_large';

/** Bad input to a task: invalid, empty or too large. HTTP answers it 400 or 413 with its message. */
export class InputError extends Error {
  constructor(
    readonly reason: InputErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}
