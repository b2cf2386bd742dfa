import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import type { JobView } from '@app/shared';
import { JobListComponent } from '../jobs/job-list.component';
import { JobsStore } from '../jobs/jobs.store';
import { UploadPanelComponent } from '../upload/upload-panel.component';

/** /dashboard: upload on top, the jobs below, one store for both that lives as long as the page. */
@Component({
  selector: 'app-dashboard-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [UploadPanelComponent, JobListComponent],
  providers: [JobsStore],
  template: `
    <h1 class="visually-hidden">Dashboard</h1>
    <app-upload-panel (uploaded)="addJobs($event)" />
    <app-job-list />
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      gap: 24px;
      width: min(100%, 1040px);
      margin: 0 auto;
      padding: 24px 16px 48px;
      box-sizing: border-box;
    }
    @media (max-width: 599px) {
      :host {
        gap: 16px;
        padding: 12px 8px 32px;
      }
    }
  `,
})
export class DashboardPageComponent {
  private readonly store = inject(JobsStore);

  addJobs(jobs: JobView[]): void {
    this.store.addJobs(jobs);
  }
}
