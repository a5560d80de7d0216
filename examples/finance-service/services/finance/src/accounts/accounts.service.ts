import { Injectable } from '@nestjs/common';
import { Money, type MoneyJSON } from '@vextrus/money';

interface Account {
  id: string;
  name: string;
  type: 'asset' | 'liability' | 'revenue' | 'expense';
  currency: string;
  /** Posted ledger entries as exact decimal strings. */
  entries: readonly string[];
}

export interface AccountView {
  id: string;
  name: string;
  type: Account['type'];
  balance: MoneyJSON;
}

const ACCOUNTS: readonly Account[] = [
  { id: 'acc-1001', name: 'Operating cash', type: 'asset', currency: 'BDT', entries: ['250000.00', '-1250.75', '0.10', '0.20'] },
  { id: 'acc-2001', name: 'VAT payable', type: 'liability', currency: 'BDT', entries: ['15000.00', '-3750.25'] },
  { id: 'acc-4001', name: 'Export revenue', type: 'revenue', currency: 'USD', entries: ['1999.99', '0.01', '120.50'] },
];

@Injectable()
export class AccountsService {
  list(): AccountView[] {
    return ACCOUNTS.map((account) => ({
      id: account.id,
      name: account.name,
      type: account.type,
      balance: Money.sum(
        account.entries.map((entry) => Money.parse(entry, account.currency)),
        account.currency,
      ).toJSON(),
    }));
  }
}
