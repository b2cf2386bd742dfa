import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { outputFromObservable } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { acceptedLabels, ACCEPTED_EXTENSIONS } from '@app/shared';
import { carriesFiles, FileDropDirective } from './file-drop.directive';
import { UploadItemComponent } from './upload-item.component';
import { isFinished } from './upload-item';
import { UploadQueue } from './upload-queue';

const ACCEPT = ACCEPTED_EXTENSIONS.join(',');

/** Drop zone and file picker; the files picked and how their uploads are going. */
@Component({
  selector: 'app-upload-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatButtonModule, MatIconModule, FileDropDirective, UploadItemComponent],
  providers: [UploadQueue],
  host: {
    // A file dropped next to the zone would make the browser leave the app to show it.
    '(document:dragover)': 'keepDropsInApp($event)',
    '(document:drop)': 'keepDropsInApp($event)',
  },
  templateUrl: './upload-panel.component.html',
  styleUrl: './upload-panel.component.scss',
})
export class UploadPanelComponent {
  readonly queue = inject(UploadQueue);
  /** Jobs the server created, file by file as answers come in. */
  readonly uploaded = outputFromObservable(this.queue.uploaded$);

  readonly accept = ACCEPT;
  readonly acceptedHint = `Images (${acceptedLabels('image')}) and videos (${acceptedLabels('video')}).`;
  readonly hasItems = computed(() => this.queue.items().length > 0);
  readonly clearDisabled = computed(() => !this.queue.hasFinished());
  readonly summary = computed(() => {
    const items = this.queue.items();
    const active = items.filter((item) => !isFinished(item)).length;
    const done = items.filter((item) => item.state === 'done').length;
    const problems = items.filter((item) => item.state === 'rejected' || item.state === 'failed').length;
    const parts = [
      active > 0 ? `${active} uploading` : null,
      done > 0 ? `${done} uploaded` : null,
      problems > 0 ? `${problems} not uploaded` : null,
    ];
    return parts.filter(Boolean).join(' · ');
  });

  pick(input: HTMLInputElement): void {
    const files = Array.from(input.files ?? []);
    // Cleared so that picking the same file again fires `change` again.
    input.value = '';
    this.queue.add(files);
  }

  drop(files: File[]): void {
    this.queue.add(files);
  }

  /** Files dragged outside the zone: no drop there (and no navigating to the file either). */
  keepDropsInApp(event: DragEvent): void {
    if (event.defaultPrevented || !carriesFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'none';
  }
}
