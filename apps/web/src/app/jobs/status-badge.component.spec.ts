import { TestBed } from '@angular/core/testing';
import { JOB_STATUSES } from '@app/shared';
import fc from 'fast-check';
import { byTestId, text } from '../../testing/dom';
import { statusArb } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { JOB_STATUS_TEXT } from './job-status-text';
import { StatusBadgeComponent } from './status-badge.component';

// Feature: thumbnail-generation-system, Property 29: for any job status (queued, processing,
// completed, failed), the UI renders the appropriate status badge (Validates: Requirements 6.5).
describe('Property 29: status badge rendering', () => {
  beforeEach(() => TestBed.configureTestingModule({ providers: [provideAppIcons()] }));

  it('every status has its own label, colour class and icon', () => {
    const labels = new Set(JOB_STATUSES.map((status) => JOB_STATUS_TEXT[status].label));
    expect(labels.size).toBe(JOB_STATUSES.length);
  });

  it('for any sequence of statuses, the badge shows the current one: word, data-status, class, icon, accessible name', () => {
    const fixture = TestBed.createComponent(StatusBadgeComponent);
    fc.assert(
      fc.property(fc.array(statusArb, { minLength: 1, maxLength: 8 }), (statuses) => {
        for (const status of statuses) {
          fixture.componentRef.setInput('status', status);
          fixture.detectChanges();
          const badge = byTestId(fixture, 'status-badge');
          expect(badge.dataset['status']).toBe(status);
          expect(text(badge)).toBe(JOB_STATUS_TEXT[status].label);
          expect(badge.getAttribute('aria-label')).toBe(`Status: ${JOB_STATUS_TEXT[status].label}`);
          expect(badge.className).toContain(`status-${status}`);
          expect(JOB_STATUSES.filter((other) => other !== status).some((other) => badge.classList.contains(`status-${other}`))).toBe(false);
          expect(badge.querySelector('mat-icon svg')).not.toBeNull();
        }
      }),
      { numRuns: 100 },
    );
  });
});
