import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { allByTestId, byTestId } from '../../testing/dom';
import { FakeJobSocket, provideFakeJobSocket } from '../../testing/fake-job-socket';
import { aJob, anEvent, aPage } from '../../testing/jobs';
import { provideAppIcons } from '../ui/icons';
import { DashboardPageComponent } from './dashboard-page.component';
import { provideFeatureSet } from '../http/server-features';

describe('DashboardPageComponent', () => {
  it('an uploaded file shows up in the job list at once, then follows its events', async () => {
    TestBed.configureTestingModule({
      providers: [provideAppIcons(), provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet()],
    });
    const http = TestBed.inject(HttpTestingController);
    const socket = TestBed.inject(FakeJobSocket);
    const fixture = TestBed.createComponent(DashboardPageComponent);
    await fixture.whenStable();
    http.expectOne((req) => req.url === '/api/jobs').flush(aPage([]));

    const input = byTestId<HTMLInputElement>(fixture, 'file-input');
    Object.defineProperty(input, 'files', { value: [new File(['x'], 'sunset.jpg')], configurable: true });
    input.dispatchEvent(new Event('change'));
    const job = aJob({
      id: 'sunset',
      originalFilename: 'sunset.jpg',
      status: 'queued',
      updatedAt: new Date(Date.UTC(2025, 0, 1)).toISOString(),
    });
    http.expectOne('/api/upload').flush({ jobs: [job], rejected: [] }, { status: 201, statusText: 'Created' });
    fixture.detectChanges();

    const rows = () => allByTestId(fixture, 'job-row');
    expect(rows().map((row) => row.dataset['jobId'])).toEqual(['sunset']);

    socket.emit(anEvent(job, 'completed', Date.UTC(2025, 0, 1, 0, 0, 2)));
    fixture.detectChanges();
    expect(rows()[0].dataset['status']).toBe('completed');
    http.verify();
  });

  it('keeps its jobs to itself: each dashboard has its own store', () => {
    TestBed.configureTestingModule({
      providers: [provideAppIcons(), provideHttpClient(), provideHttpClientTesting(), provideFakeJobSocket(), provideFeatureSet()],
    });
    const first = TestBed.createComponent(DashboardPageComponent);
    const second = TestBed.createComponent(DashboardPageComponent);
    const http = TestBed.inject(HttpTestingController);
    expect(http.match((req) => req.url === '/api/jobs')).toHaveLength(2);
    first.destroy();
    second.destroy();
  });
});
