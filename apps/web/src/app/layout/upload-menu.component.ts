import { afterNextRender, ChangeDetectionStrategy, Component, input, output, viewChild } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatMenuModule, MatMenuTrigger } from '@angular/material/menu';
import { MenuArrival, openOnArrival } from './menu-arrival';

/**
 * The toolbar's Upload button and its menu (files or a folder). The shell loads it on the first
 * press (click, Enter or Space) of its stand-in button (`@defer`): Material's menu and the CDK
 * overlay are not part of the first screen. `arrival` opens it at once when the stand-in was
 * pressed to load it.
 */
@Component({
  selector: 'app-upload-menu',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [MatIconModule, MatMenuModule],
  template: `
    <button type="button" class="app-button filled upload" data-testid="choose-files" [matMenuTriggerFor]="uploadMenu">
      <mat-icon svgIcon="upload" />
      Upload
    </button>
    <mat-menu #uploadMenu="matMenu">
      <button mat-menu-item type="button" data-testid="upload-files" (click)="files.emit()">
        <mat-icon svgIcon="image" />
        Files…
      </button>
      <button mat-menu-item type="button" data-testid="choose-folder" (click)="folder.emit()">
        <mat-icon svgIcon="folder" />
        A folder…
      </button>
    </mat-menu>
  `,
})
export class UploadMenuComponent {
  /** How its stand-in was pressed to load it (then it opens at once), if it was. */
  readonly arrival = input<MenuArrival>(null);
  readonly files = output<void>();
  readonly folder = output<void>();

  private readonly trigger = viewChild.required(MatMenuTrigger);

  constructor() {
    afterNextRender(() => openOnArrival(this.trigger(), this.arrival()));
  }
}
