import { AbstractControl, ValidationErrors, ValidatorFn } from '@angular/forms';

const encoder = new TextEncoder();

export function utf8ByteLength(text: string): number {
  return encoder.encode(text).length;
}

/**
 * The API limits passwords in UTF-8 bytes (bcrypt reads 72), not characters: "é" is 2 bytes,
 * most emoji 4. Error key `maxBytes` with the limit and the actual size.
 */
export function maxUtf8Bytes(max: number): ValidatorFn {
  return (control: AbstractControl<unknown>): ValidationErrors | null => {
    const value = control.value;
    if (typeof value !== 'string') return null;
    const actual = utf8ByteLength(value);
    return actual > max ? { maxBytes: { max, actual } } : null;
  };
}
