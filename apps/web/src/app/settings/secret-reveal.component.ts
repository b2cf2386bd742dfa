import { ClipboardModule } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';

/** A secret shown once (a new API key, a webhook's signing secret), with a copy button. */
@Component({
  selector: 'app-secret-reveal',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ClipboardModule, MatButtonModule, MatIconModule],
  template: `
    <div class="reveal" role="status">
      <p class="heading">{{ heading() }}</p>
      <p class="note">Copy it now and keep it somewhere safe: it will not be shown again.</p>
      <div class="value">
        <input
          #field
          type="text"
          readonly
          data-testid="secret-value"
          [value]="secret()"
          [attr.aria-label]="heading()"
          (focus)="field.select()"
        />
        <button
          mat-flat-button
          type="button"
          data-testid="secret-copy"
          [cdkCopyToClipboard]="secret()"
          (cdkCopyToClipboardCopied)="copied.set($event)"
        >
          <mat-icon svgIcon="content_copy" />
          {{ copied() ? 'Copied' : 'Copy' }}
        </button>
      </div>
      <button mat-button type="button" data-testid="secret-done" (click)="done.emit()">Done</button>
    </div>
  `,
  styles: `
    .reveal {
      display: flex;
      flex-direction: column;
      align-items: flex-start;
      gap: 8px;
      padding: 16px;
      border-radius: var(--mat-sys-corner-medium);
      background: var(--mat-sys-tertiary-container);
      color: var(--mat-sys-on-tertiary-container);
    }
    p {
      margin: 0;
    }
    .heading {
      font: var(--mat-sys-title-small);
    }
    .value {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      width: 100%;
    }
    input {
      flex: 1 1 280px;
      min-width: 0;
      padding: 8px 12px;
      border: 1px solid var(--mat-sys-outline);
      border-radius: var(--mat-sys-corner-small);
      background: var(--mat-sys-surface);
      color: var(--mat-sys-on-surface);
      font:
        14px/1.4 ui-monospace,
        SFMono-Regular,
        Menlo,
        Consolas,
        monospace;
    }
  `,
})
export class SecretRevealComponent {
  readonly heading = input.required<string>();
  readonly secret = input.required<string>();
  readonly done = output<void>();

  readonly copied = signal(false);
}
