import { ComponentFixture, TestBed } from '@angular/core/testing';
import type { JobStatus } from '@app/shared';
import { byTestId } from '../../testing/dom';
import { StatusFilterComponent } from './status-filter.component';

describe('StatusFilterComponent', () => {
  let fixture: ComponentFixture<StatusFilterComponent>;
  let chosen: (JobStatus | null)[];

  beforeEach(async () => {
    fixture = TestBed.createComponent(StatusFilterComponent);
    chosen = [];
    fixture.componentInstance.valueChange.subscribe((value) => chosen.push(value));
    await fixture.whenStable();
  });

  const option = (id: string) => byTestId<HTMLButtonElement>(fixture, id);

  it('offers all and every status, "All" selected by default', () => {
    const group = byTestId(fixture, 'status-filter');
    expect(group.getAttribute('aria-label')).toBe('Show jobs with status');
    expect(group.dataset['value']).toBe('all');
    for (const id of ['all', 'pending', 'queued', 'processing', 'completed', 'failed'])
      expect(option(`status-filter-${id}`)).not.toBeNull();
    expect(option('status-filter-all').getAttribute('aria-checked')).toBe('true');
  });

  it('reports the status picked, and null for all', () => {
    option('status-filter-failed').click();
    option('status-filter-all').click();
    expect(chosen).toEqual(['failed', null]);
  });

  it('shows the value it is given', async () => {
    fixture.componentRef.setInput('value', 'completed');
    await fixture.whenStable();
    expect(byTestId(fixture, 'status-filter').dataset['value']).toBe('completed');
    expect(option('status-filter-completed').getAttribute('aria-checked')).toBe('true');
  });

  it('shows each count where the server keeps them', async () => {
    fixture.componentRef.setInput('stats', {
      total: 1234,
      byStatus: { pending: 0, queued: 3, processing: 1, completed: 1200, failed: 30 },
      byType: { image: 1, video: 2 },
      bytes: 0,
      quotaBytes: null,
      trashed: 0,
    });
    await fixture.whenStable();
    expect(option('status-filter-all').textContent?.replace(/\s+/g, ' ').trim()).toBe(`All ${(1234).toLocaleString()}`);
    expect(option('status-filter-failed').textContent?.replace(/\s+/g, ' ').trim()).toBe('Failed 30');
  });

  it('moves with the arrow keys, one tab stop for the group', () => {
    expect(option('status-filter-all').tabIndex).toBe(0);
    expect(option('status-filter-failed').tabIndex).toBe(-1);
    option('status-filter-all').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }));
    option('status-filter-all').dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft' }));
    expect(chosen).toEqual(['pending', 'failed']);
  });
});
