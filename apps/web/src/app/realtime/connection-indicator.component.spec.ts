import { ComponentFixture, TestBed } from '@angular/core/testing';
import { byTestId, queryTestId, text } from '../../testing/dom';
import { ConnectionIndicatorComponent } from './connection-indicator.component';
import { CONNECTION_STATES, ConnectionState } from './connection-state';

describe('ConnectionIndicatorComponent', () => {
  let fixture: ComponentFixture<ConnectionIndicatorComponent>;

  async function show(state: ConnectionState): Promise<HTMLElement> {
    fixture.componentRef.setInput('state', state);
    await fixture.whenStable();
    return byTestId<HTMLElement>(fixture, 'connection-indicator');
  }

  beforeEach(() => {
    fixture = TestBed.createComponent(ConnectionIndicatorComponent);
  });

  it.each([
    ['connected', 'Live'],
    ['reconnecting', 'Connecting…'],
    ['offline', 'Offline'],
  ] as const)('%s reads "%s" and is announced as a status', async (state, label) => {
    const indicator = await show(state);
    expect(indicator.dataset['state']).toBe(state);
    expect(text(indicator)).toBe(label);
    expect(indicator.getAttribute('role')).toBe('status');
    expect(indicator.getAttribute('aria-label')).toMatch(/^Live updates: /);
  });

  it('follows state changes', async () => {
    for (const state of CONNECTION_STATES) expect((await show(state)).dataset['state']).toBe(state);
  });

  it('offers to reconnect only when offline', async () => {
    let asked = 0;
    fixture.componentInstance.reconnect.subscribe(() => (asked += 1));
    await show('connected');
    expect(queryTestId(fixture, 'reconnect-button')).toBeNull();
    await show('offline');
    byTestId<HTMLButtonElement>(fixture, 'reconnect-button').click();
    expect(asked).toBe(1);
  });

  it('says that no worker is running and jobs will wait while the server reports it and the connection is up', async () => {
    await show('connected');
    expect(queryTestId(fixture, 'no-worker')).toBeNull();
    fixture.componentRef.setInput('workersDown', true);
    await fixture.whenStable();
    expect(text(byTestId<HTMLElement>(fixture, 'no-worker'))).toBe('No worker is running: jobs will wait');
    expect(byTestId<HTMLElement>(fixture, 'no-worker').getAttribute('role')).toBe('status');
    await show('reconnecting');
    expect(queryTestId(fixture, 'no-worker')).toBeNull();
    await show('connected');
    fixture.componentRef.setInput('workersDown', false);
    await fixture.whenStable();
    expect(queryTestId(fixture, 'no-worker')).toBeNull();
  });
});
