import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { allByTestId, byTestId, queryTestId, text } from '../../testing/dom';
import { allFeatures, firstFeatures } from '../../testing/features';
import { FeatureSet, provideFeatureSet } from '../http/server-features';
import { provideAppIcons } from '../ui/icons';
import { SettingsPageComponent } from './settings-page.component';

jest.setTimeout(30_000);

describe('SettingsPageComponent', () => {
  let fixture: ComponentFixture<SettingsPageComponent>;
  let http: HttpTestingController;

  async function open(features: FeatureSet): Promise<HTMLElement> {
    TestBed.configureTestingModule({
      providers: [provideAppIcons(), provideHttpClient(), provideHttpClientTesting(), provideRouter([]), provideFeatureSet(features)],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(SettingsPageComponent);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  const settle = async () => {
    await fixture.whenStable();
    fixture.detectChanges();
  };
  const type = (input: HTMLInputElement, value: string) => {
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };

  afterEach(() => http.verify());

  it('says so where the server has neither keys nor webhooks', async () => {
    const page = await open(firstFeatures());
    expect(text(byTestId(page, 'settings-unavailable'))).toBe('This server does not offer API keys or webhooks yet.');
    expect(queryTestId(page, 'api-keys')).toBeNull();
  });

  it('makes an API key with scopes, shows it once to copy, lists it without it, and revokes it', async () => {
    const page = await open(allFeatures());
    http.expectOne({ method: 'GET', url: '/api/webhooks' }).flush({ items: [] });
    http
      .expectOne({ method: 'GET', url: '/api/api-keys' })
      .flush([{ id: 'k0', name: 'old', scopes: ['read'], createdAt: '2025-01-01T00:00:00.000Z', lastUsedAt: null }]);
    await settle();
    expect(text(byTestId(page, 'api-key-row'))).toContain('Never');
    expect(byTestId<HTMLButtonElement>(page, 'api-key-create').disabled).toBe(true);
    type(byTestId<HTMLInputElement>(page, 'api-key-name'), 'backup script');
    byTestId<HTMLInputElement>(page, 'api-key-scope-delete').click();
    await settle();
    byTestId<HTMLButtonElement>(page, 'api-key-create').click();
    const create = http.expectOne({ method: 'POST', url: '/api/api-keys' });
    expect(create.request.body).toEqual({ name: 'backup script', scopes: ['read', 'upload', 'delete'] });
    create.flush(
      {
        id: 'k1',
        name: 'backup script',
        scopes: ['read', 'upload', 'delete'],
        createdAt: '2025-01-02T00:00:00.000Z',
        lastUsedAt: null,
        key: 'thumbs_secret',
      },
      { status: 201, statusText: 'Created' },
    );
    await settle();
    expect(byTestId<HTMLInputElement>(page, 'secret-value').value).toBe('thumbs_secret');
    expect(queryTestId(page, 'secret-copy')).not.toBeNull();
    expect(allByTestId(page, 'api-key-row')).toHaveLength(2);
    expect(text(byTestId(page, 'api-key-list'))).not.toContain('thumbs_secret');
    byTestId<HTMLButtonElement>(page, 'secret-done').click();
    await settle();
    expect(queryTestId(page, 'secret-value')).toBeNull();

    byTestId<HTMLButtonElement>(allByTestId(page, 'api-key-row')[0], 'api-key-revoke').click();
    await settle();
    await new Promise((resolve) => setTimeout(resolve));
    byTestId<HTMLButtonElement>(document.body, 'confirm-accept').click();
    await settle();
    http.expectOne({ method: 'DELETE', url: '/api/api-keys/k0' }).flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    expect(allByTestId(page, 'api-key-row').map((row) => row.dataset['keyId'])).toEqual(['k1']);
  });

  it('adds a webhook (its secret shown once) and shows its delivery log', async () => {
    const page = await open(allFeatures());
    http.expectOne({ method: 'GET', url: '/api/api-keys' }).flush([]);
    http.expectOne({ method: 'GET', url: '/api/webhooks' }).flush({ items: [] });
    await settle();
    type(byTestId<HTMLInputElement>(page, 'webhook-url'), 'https://example.com/hook');
    byTestId<HTMLInputElement>(page, 'webhook-event-job.failed').click();
    await settle();
    byTestId<HTMLButtonElement>(page, 'webhook-create').click();
    const create = http.expectOne({ method: 'POST', url: '/api/webhooks' });
    expect(create.request.body).toEqual({ url: 'https://example.com/hook', events: ['job.completed'] });
    create.flush(
      { id: 'w1', url: 'https://example.com/hook', events: ['job.completed'], createdAt: '2025-01-02T00:00:00.000Z', secret: 'whsec_abc' },
      { status: 201, statusText: 'Created' },
    );
    await settle();
    expect(byTestId<HTMLInputElement>(page, 'secret-value').value).toBe('whsec_abc');
    byTestId<HTMLButtonElement>(page, 'webhook-deliveries').click();
    http.expectOne({ method: 'GET', url: '/api/webhooks/w1/deliveries' }).flush({
      items: [
        {
          id: 'd1',
          event: 'job.completed',
          jobId: '0190a7e2-0000-7000-8000-000000000001',
          attempt: 2,
          status: 'delivered',
          responseCode: 200,
          at: '2025-01-02T00:00:01.000Z',
        },
      ],
    });
    await settle();
    const delivery = byTestId(page, 'webhook-delivery');
    expect(text(delivery)).toContain('job.completed');
    expect(text(delivery)).toContain('delivered (200)');
    expect(byTestId(page, 'webhook-deliveries').getAttribute('aria-expanded')).toBe('true');
  });

  it('shows the server’s refusal of a webhook URL', async () => {
    const page = await open(allFeatures());
    http.expectOne({ method: 'GET', url: '/api/api-keys' }).flush([]);
    http.expectOne({ method: 'GET', url: '/api/webhooks' }).flush([]);
    await settle();
    type(byTestId<HTMLInputElement>(page, 'webhook-url'), 'http://127.0.0.1/hook');
    await settle();
    byTestId<HTMLButtonElement>(page, 'webhook-create').click();
    http
      .expectOne({ method: 'POST', url: '/api/webhooks' })
      .flush(
        { statusCode: 400, error: 'Bad Request', message: 'The URL resolves to a private address.' },
        { status: 400, statusText: 'Bad Request' },
      );
    await settle();
    expect(text(byTestId(page, 'webhooks-error'))).toBe('The URL resolves to a private address.');
  });
});
