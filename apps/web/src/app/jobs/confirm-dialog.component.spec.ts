import { TestBed } from '@angular/core/testing';
import { MatDialog } from '@angular/material/dialog';
import { byTestId, text } from '../../testing/dom';
import { ConfirmDialogComponent, ConfirmDialogData } from './confirm-dialog.component';

describe('ConfirmDialogComponent', () => {
  const data: ConfirmDialogData = { title: 'Delete this job?', message: 'It cannot be undone.', confirmLabel: 'Delete' };

  async function open(): Promise<{ result: Promise<boolean | undefined>; overlay: HTMLElement }> {
    const ref = TestBed.inject(MatDialog).open<ConfirmDialogComponent, ConfirmDialogData, boolean>(ConfirmDialogComponent, { data });
    const result = new Promise<boolean | undefined>((resolve) => ref.afterClosed().subscribe(resolve));
    TestBed.tick();
    await new Promise((resolve) => setTimeout(resolve)); // the title registers itself a tick later
    TestBed.tick();
    return { result, overlay: document.querySelector('.cdk-overlay-container') as HTMLElement };
  }

  afterEach(() => TestBed.inject(MatDialog).closeAll());

  it('asks the question', async () => {
    const { overlay } = await open();
    expect(text(overlay.querySelector('h2'))).toBe('Delete this job?');
    expect(text(overlay)).toContain('It cannot be undone.');
    expect(overlay.querySelector('[role="dialog"]')?.getAttribute('aria-labelledby')).toBeTruthy();
  });

  it('closes with true on confirm', async () => {
    const { result, overlay } = await open();
    byTestId<HTMLButtonElement>(overlay, 'confirm-accept').click();
    expect(await result).toBe(true);
  });

  it('closes with false on cancel', async () => {
    const { result, overlay } = await open();
    byTestId<HTMLButtonElement>(overlay, 'confirm-cancel').click();
    expect(await result).toBe(false);
  });
});
