import { NgComponentOutlet } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, DestroyRef, ElementRef, inject, signal, Type, viewChild } from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { MatIconModule } from '@angular/material/icon';
import { MatToolbarModule } from '@angular/material/toolbar';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { ACCEPTED_EXTENSIONS } from '@app/shared';
import { filter, merge, switchMap, take, timer } from 'rxjs';
import { AuthService } from '../auth/auth.service';
import { ServerFeatures } from '../http/server-features';
import { ConnectionIndicatorComponent } from '../realtime/connection-indicator.component';
import { LiveConnection } from '../realtime/live-connection';
import { WorkerHealth } from '../realtime/worker-health';
import { carriesFiles, FileDropDirective } from '../upload/file-drop.directive';
import { pickedFromDrop, pickedFromInput } from '../upload/picked-files';
import { UploadPicker } from '../upload/upload-picker';
import { UploadQueue } from '../upload/upload-queue';
import { LazyTooltipDirective } from '../ui/lazy-tooltip.directive';
import { loadUntilLoaded } from '../ui/load-until-loaded';
import { AccountMenuComponent } from './account-menu.component';
import { MenuArrival, pressedWith } from './menu-arrival';
import { UploadMenuComponent } from './upload-menu.component';

/** The upload tray's code is fetched this long after the shell starts, if no file came first. */
const TRAY_PREFETCH_MS = 3000;

/**
 * The frame of the signed-in pages: the toolbar (name, Library and Trash, the live connection,
 * Upload, the account menu), the page, and the uploads: files dropped anywhere on the window
 * (folders too), the pickers, the tray. Uploads belong here so they go on from page to page. On
 * phones Upload is a floating button and the toolbar keeps the name.
 */
@Component({
  selector: 'app-shell',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [
    RouterOutlet,
    RouterLink,
    RouterLinkActive,
    MatToolbarModule,
    MatIconModule,
    LazyTooltipDirective,
    ConnectionIndicatorComponent,
    NgComponentOutlet,
    UploadMenuComponent,
    AccountMenuComponent,
  ],
  providers: [UploadQueue, UploadPicker],
  hostDirectives: [FileDropDirective],
  host: {
    // A file dropped outside the window's drop target would make the browser leave the app to show it.
    '(document:dragover)': 'keepDropsInApp($event)',
    '(document:drop)': 'keepDropsInApp($event)',
    // Here rather than on the stand-ins: with the menu's code prefetched, a stand-in is replaced
    // (and its own listeners gone) before its click would reach them.
    '(click)': 'standInPressed($event)',
    '(keydown)': 'standInKey($event)',
  },
  templateUrl: './shell.component.html',
  styleUrl: './shell.component.scss',
})
export class ShellComponent {
  readonly live = inject(LiveConnection);
  readonly workerHealth = inject(WorkerHealth);
  readonly features = inject(ServerFeatures);
  readonly drop = inject(FileDropDirective);
  private readonly auth = inject(AuthService);
  private readonly queue = inject(UploadQueue);
  private readonly filesInput = viewChild.required<ElementRef<HTMLInputElement>>('filesInput');
  private readonly folderInput = viewChild.required<ElementRef<HTMLInputElement>>('folderInput');

  readonly email = computed(() => this.auth.user()?.email ?? '');
  readonly accept = ACCEPTED_EXTENSIONS.join(',');
  readonly settings = computed(() => this.features.apiKeys() || this.features.webhooks());
  readonly hasUploads = computed(() => this.queue.items().length > 0);
  /** The upload tray's component, once loaded. */
  readonly tray = signal<Type<unknown> | null>(null);
  /** What happened on the menus' stand-in buttons before the menus were loaded. */
  readonly uploadArrival = signal<MenuArrival>(null);
  readonly accountArrival = signal<MenuArrival>(null);

  constructor() {
    this.workerHealth.watch(inject(DestroyRef));
    inject(UploadPicker)
      .requests$.pipe(takeUntilDestroyed())
      .subscribe((what) => (what === 'files' ? this.chooseFiles() : this.chooseFolder()));
    this.drop.dropped.subscribe((transfer) => void this.dropped(transfer));
    // The tray's code: fetched a moment after the page is up (so it is there if the network goes
    // away later), or with the first file if that comes sooner; tried again until it loads.
    merge(toObservable(this.hasUploads).pipe(filter(Boolean)), timer(TRAY_PREFETCH_MS))
      .pipe(
        take(1),
        switchMap(() => loadUntilLoaded(() => import('../upload/upload-tray.component'))),
        takeUntilDestroyed(),
      )
      .subscribe(({ UploadTrayComponent }) => this.tray.set(UploadTrayComponent));
  }

  chooseFiles(): void {
    this.filesInput().nativeElement.click();
  }

  chooseFolder(): void {
    this.folderInput().nativeElement.click();
  }

  pick(input: HTMLInputElement): void {
    const { files, skipped } = pickedFromInput(Array.from(input.files ?? []));
    // Cleared so that picking the same file again fires `change` again.
    input.value = '';
    this.queue.add(files, skipped);
  }

  /** A menu's stand-in button clicked: the menu, once loaded, opens at once. */
  standInPressed(event: MouseEvent): void {
    this.arrived(event, pressedWith(event));
  }

  /**
   * Enter or Space on a stand-in: taken at the key, not at the click the browser would make of it
   * later (Enter's comes with the character, Space's on key up). The menu's code can arrive in
   * between on a busy machine; that click then went to whatever had the focus once the stand-in
   * was gone, and the menu never opened.
   */
  standInKey(event: KeyboardEvent): void {
    if ((event.key === 'Enter' || event.key === ' ') && this.arrived(event, 'keyboard')) event.preventDefault();
  }

  private arrived(event: Event, how: Exclude<MenuArrival, null>): boolean {
    const target = event.target instanceof Element ? event.target : null;
    const which = target?.closest('[data-stand-in]')?.getAttribute('data-stand-in');
    if (which === 'upload') this.uploadArrival.set(how);
    else if (which === 'account') this.accountArrival.set(how);
    return which === 'upload' || which === 'account';
  }

  signOut(): void {
    this.auth.signOut('signed-out');
  }

  /** Files dragged over the window but not onto the app's target: no drop (and no navigating to the file either). */
  keepDropsInApp(event: DragEvent): void {
    if (event.defaultPrevented || !carriesFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
  }

  private async dropped(transfer: DataTransfer): Promise<void> {
    const { files, skipped } = await pickedFromDrop(transfer);
    this.queue.add(files, skipped);
  }
}
