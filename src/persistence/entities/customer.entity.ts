import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SyncColumns } from './sync-columns';

@Entity('cms_customers')
export class CustomerEntity extends SyncColumns {
  @PrimaryColumn({ type: 'bigint' })
  id!: number;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true })
  firstName!: string | null;

  @Column({ name: 'last_name', type: 'varchar', length: 100, nullable: true })
  lastName!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  phone!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: string;
}
