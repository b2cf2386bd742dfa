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

  const option = (id: string) => byTestId(fixture, id).querySelector('button') as HTMLButtonElement;

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
});
